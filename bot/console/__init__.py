"""The support console's read side: what each page shows, read in one snapshot, as frozen dataclasses.

Times are UTC; each row carries the time zone to show it in. Nothing here writes or masks: privacy
(masked phones, hidden access codes) is the page's, per the reader's role.
"""
