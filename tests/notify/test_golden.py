"""Golden text for every kind, channel and locale (STYLE practice 12): the exact words people read.

Fields come from tests/notify/samples.py (REALISTIC). A change of copy changes a line here, on purpose.
"""

import pytest

from bot.channels import registry
from bot.notify.kinds import KINDS, Channel, Kind
from bot.notify.render import TEMPLATES_DIR, Renderer, template_name
from tests.notify.samples import LOCALES, sample_fields

S, T = Channel.SMS, Channel.TELEGRAM
# SMS segments where one is not enough (see the comment at the top of each template); all others: 1.
SMS_SEGMENTS = {Kind.FAILED: 2}

GOLDEN: dict[tuple[Channel, str, Kind], str] = {
    # pre-delivery
    (S, "en", Kind.PRE_DELIVERY): (
        "Doorstep: Hi Christopher, arriving Mon 23 Nov 14:00-15:00. Reply 1 to confirm, 2 to "
        "change the time, 3 for delivery instructions. https://dstp.eu/t/Ab3dE9"
    ),
    (S, "de", Kind.PRE_DELIVERY): (
        "Doorstep: Hallo Christopher, Zustellung Mo. 23. Nov. 14:00-15:00. Antworten Sie: 1 "
        "bestätigen, 2 andere Zeit, 3 Ablagehinweise. https://dstp.eu/t/Ab3dE9"
    ),
    (T, "en", Kind.PRE_DELIVERY): (
        "Hi Christopher, your parcel from Doorstep arrives <b>Mon 23 Nov, 14:00–15:00</b>.\n"
        "Does that suit you? Confirm it, choose another time or tell us where to leave it.\n"
        '<a href="https://dstp.eu/t/Ab3dE9">Track your parcel</a>'
    ),
    (T, "de", Kind.PRE_DELIVERY): (
        "Hallo Christopher, Ihr Paket von Doorstep kommt <b>Mo. 23. Nov., 14:00–15:00</b>.\n"
        "Passt das? Bestätigen Sie, wählen Sie eine andere Zeit oder sagen Sie uns, wo wir es "
        "ablegen dürfen.\n"
        '<a href="https://dstp.eu/t/Ab3dE9">Sendung verfolgen</a>'
    ),
    # out-for-delivery
    (S, "en", Kind.OUT_FOR_DELIVERY): (
        "Doorstep: Hi Christopher, on its way! Today 14:00-15:00. Reply 1 to confirm, 2 to change "
        "the time, 3 for delivery instructions. https://dstp.eu/t/Ab3dE9"
    ),
    (S, "de", Kind.OUT_FOR_DELIVERY): (
        "Doorstep: Hallo Christopher, Ihr Paket kommt heute 14:00-15:00. Antworten Sie: 1 "
        "bestätigen, 2 andere Zeit, 3 Ablagehinweise. https://dstp.eu/t/Ab3dE9"
    ),
    (T, "en", Kind.OUT_FOR_DELIVERY): (
        "Hi Christopher, your parcel from Doorstep is on its way! Expect it today, "
        "<b>14:00–15:00</b>.\n"
        "Won't be home? Choose another time or tell us where to leave it.\n"
        '<a href="https://dstp.eu/t/Ab3dE9">Track your parcel</a>'
    ),
    (T, "de", Kind.OUT_FOR_DELIVERY): (
        "Hallo Christopher, Ihr Paket von Doorstep ist unterwegs! Es kommt heute, "
        "<b>14:00–15:00</b>.\n"
        "Nicht zu Hause? Wählen Sie eine andere Zeit oder sagen Sie uns, wo wir es ablegen "
        "dürfen.\n"
        '<a href="https://dstp.eu/t/Ab3dE9">Sendung verfolgen</a>'
    ),
    # nearby
    (S, "en", Kind.NEARBY): (
        "Doorstep: Hi Christopher, your parcel is 3 stops away. Expect it around 14:20 (in about 12 min)."
    ),
    (S, "de", Kind.NEARBY): (
        "Doorstep: Hallo Christopher, Ihr Paket ist noch 3 Stopps entfernt. Es kommt gegen 14:20 "
        "Uhr (in ca. 12 Min.)."
    ),
    (T, "en", Kind.NEARBY): (
        "Hi Christopher, your parcel is 3 stops away. Expect it around <b>14:20</b> (in about 12 min)."
    ),
    (T, "de", Kind.NEARBY): (
        "Hallo Christopher, Ihr Paket ist noch 3 Stopps entfernt. Es kommt gegen <b>14:20 Uhr</b> "
        "(in ca. 12 Min.)."
    ),
    # delay
    (S, "en", Kind.DELAY): (
        "Doorstep: Sorry Christopher, we're running late. Your parcel now arrives 14:00-15:00 "
        "(was 13:00-14:00). Reply 2 to change the time."
    ),
    (S, "de", Kind.DELAY): (
        "Doorstep: Hallo Christopher, leider verspäten wir uns. Ihr Paket kommt jetzt 14:00-15:00 "
        "(statt 13:00-14:00). Antworten Sie 2 für eine andere Zeit."
    ),
    (T, "en", Kind.DELAY): (
        "Sorry Christopher, we're running late. Your parcel now arrives <b>14:00–15:00</b> (was "
        "13:00–14:00).\n"
        "If that doesn't suit you, choose another time below."
    ),
    (T, "de", Kind.DELAY): (
        "Hallo Christopher, leider verspäten wir uns. Ihr Paket kommt jetzt <b>14:00–15:00</b> "
        "(statt 13:00–14:00).\n"
        "Passt das nicht? Wählen Sie unten eine andere Zeit."
    ),
    # window-updated
    (S, "en", Kind.WINDOW_UPDATED): (
        "Doorstep: Hi Christopher, new delivery time: Mon 23 Nov 14:00-15:00 (was 13:00-14:00). "
        "Reply 2 to change the time."
    ),
    (S, "de", Kind.WINDOW_UPDATED): (
        "Doorstep: Hallo Christopher, Ihr neues Zeitfenster: Mo. 23. Nov. 14:00-15:00 (statt "
        "13:00-14:00). Antworten Sie 2 für eine andere Zeit."
    ),
    (T, "en", Kind.WINDOW_UPDATED): (
        "Hi Christopher, your delivery time has changed: <b>Mon 23 Nov, 14:00–15:00</b> (was 13:00–14:00)."
    ),
    (T, "de", Kind.WINDOW_UPDATED): (
        "Hallo Christopher, Ihr Zeitfenster hat sich geändert: <b>Mo. 23. Nov., 14:00–15:00</b> "
        "(statt 13:00–14:00)."
    ),
    # delivered
    (S, "en", Kind.DELIVERED): (
        "Doorstep: Hi Christopher, your parcel was delivered at 14:20 (front door). How did we "
        "do? Reply 1 (poor) to 5 (great)."
    ),
    (S, "de", Kind.DELIVERED): (
        "Doorstep: Hallo Christopher, Ihr Paket wurde um 14:20 Uhr zugestellt (Haustür). Wie "
        "war's? Antworten Sie 1 (schlecht) bis 5 (super)."
    ),
    (T, "en", Kind.DELIVERED): (
        "Delivered! Hi Christopher, your parcel arrived at <b>14:20</b> (front door).\n"
        "How did we do? Tap a rating below."
    ),
    (T, "de", Kind.DELIVERED): (
        "Zugestellt! Hallo Christopher, Ihr Paket ist um <b>14:20 Uhr</b> angekommen (Haustür).\n"
        "Wie war's? Bewerten Sie uns unten."
    ),
    # failed
    (S, "en", Kind.FAILED): (
        "Doorstep: Sorry Christopher, we couldn't deliver your parcel today: nobody was home.\n"
        "Reply with a number for a new time:\n"
        "1) Tue 24 Nov 10:00-12:00\n"
        "2) Tue 24 Nov 14:00-16:00\n"
        "3) Wed 25 Nov 08:00-10:00"
    ),
    (S, "de", Kind.FAILED): (
        "Doorstep: Hallo Christopher, leider konnten wir Ihr Paket heute nicht zustellen: niemand "
        "angetroffen.\n"
        "Antworten Sie mit der Nummer Ihrer neuen Zeit:\n"
        "1) Di. 24. Nov. 10:00-12:00\n"
        "2) Di. 24. Nov. 14:00-16:00\n"
        "3) Mi. 25. Nov. 08:00-10:00"
    ),
    (T, "en", Kind.FAILED): (
        "Sorry Christopher, we couldn't deliver your parcel today: nobody was home.\n"
        "Choose a new time below:\n"
        "• Tue 24 Nov, 10:00–12:00\n"
        "• Tue 24 Nov, 14:00–16:00\n"
        "• Wed 25 Nov, 08:00–10:00"
    ),
    (T, "de", Kind.FAILED): (
        "Hallo Christopher, leider konnten wir Ihr Paket heute nicht zustellen: niemand "
        "angetroffen.\n"
        "Wählen Sie unten eine neue Zeit:\n"
        "• Di. 24. Nov., 10:00–12:00\n"
        "• Di. 24. Nov., 14:00–16:00\n"
        "• Mi. 25. Nov., 08:00–10:00"
    ),
    # confirmed
    (S, "en", Kind.CONFIRMED): (
        "Doorstep: Thanks Christopher, you're all set for Mon 23 Nov 14:00-15:00. We'll let you "
        "know when your parcel is close."
    ),
    (S, "de", Kind.CONFIRMED): (
        "Doorstep: Danke, Christopher! Ihre Zustellung am Mo. 23. Nov. 14:00-15:00 ist bestätigt. "
        "Wir melden uns, wenn Ihr Paket in der Nähe ist."
    ),
    (T, "en", Kind.CONFIRMED): (
        "Thanks, Christopher! You're all set for <b>Mon 23 Nov, 14:00–15:00</b>.\n"
        "We'll let you know when your parcel is close."
    ),
    (T, "de", Kind.CONFIRMED): (
        "Danke, Christopher! Ihre Zustellung am <b>Mo. 23. Nov., 14:00–15:00</b> ist bestätigt.\n"
        "Wir melden uns, wenn Ihr Paket in der Nähe ist."
    ),
    # slots-offered
    (S, "en", Kind.SLOTS_OFFERED): (
        "Doorstep: Hi Christopher, reply with the number of your new time:\n"
        "1) Tue 24 Nov 10:00-12:00\n"
        "2) Tue 24 Nov 14:00-16:00\n"
        "3) Wed 25 Nov 08:00-10:00"
    ),
    (S, "de", Kind.SLOTS_OFFERED): (
        "Doorstep: Christopher, antworten Sie mit der Nummer Ihrer Wahl:\n"
        "1) Di. 24. Nov. 10:00-12:00\n"
        "2) Di. 24. Nov. 14:00-16:00\n"
        "3) Mi. 25. Nov. 08:00-10:00"
    ),
    (T, "en", Kind.SLOTS_OFFERED): (
        "Christopher, which new time suits you? Choose one below:\n"
        "• Tue 24 Nov, 10:00–12:00\n"
        "• Tue 24 Nov, 14:00–16:00\n"
        "• Wed 25 Nov, 08:00–10:00"
    ),
    (T, "de", Kind.SLOTS_OFFERED): (
        "Christopher, welche neue Zeit passt Ihnen? Wählen Sie unten:\n"
        "• Di. 24. Nov., 10:00–12:00\n"
        "• Di. 24. Nov., 14:00–16:00\n"
        "• Mi. 25. Nov., 08:00–10:00"
    ),
    # rescheduled
    (S, "en", Kind.RESCHEDULED): (
        "Doorstep: Done, Christopher! Your parcel now arrives Mon 23 Nov 14:00-15:00."
    ),
    (S, "de", Kind.RESCHEDULED): (
        "Doorstep: Erledigt, Christopher! Ihr neues Zeitfenster: Mo. 23. Nov. 14:00-15:00."
    ),
    (T, "en", Kind.RESCHEDULED): "Done, Christopher! Your parcel now arrives <b>Mon 23 Nov, 14:00–15:00</b>.",
    (T, "de", Kind.RESCHEDULED): (
        "Erledigt, Christopher! Ihr neues Zeitfenster: <b>Mo. 23. Nov., 14:00–15:00</b>."
    ),
    # change-refused
    (S, "en", Kind.CHANGE_REFUSED): (
        "Doorstep: Sorry Christopher, we can't make that change: your parcel is already on the van."
    ),
    (S, "de", Kind.CHANGE_REFUSED): (
        "Doorstep: Hallo Christopher, das können wir leider nicht ändern: Ihr Paket ist schon im Fahrzeug."
    ),
    (T, "en", Kind.CHANGE_REFUSED): (
        "Sorry Christopher, we can't make that change: your parcel is already on the van."
    ),
    (T, "de", Kind.CHANGE_REFUSED): (
        "Hallo Christopher, das können wir leider nicht ändern: Ihr Paket ist schon im Fahrzeug."
    ),
    # instructions-saved
    (S, "en", Kind.INSTRUCTIONS_SAVED): (
        "Doorstep: Thanks Christopher, the driver will get your delivery instructions. We'll use "
        "them for future deliveries too."
    ),
    (S, "de", Kind.INSTRUCTIONS_SAVED): (
        "Doorstep: Danke, Christopher! Wir geben Ihre Ablagehinweise an unser Fahrteam weiter. "
        "Sie gelten auch für künftige Zustellungen."
    ),
    (T, "en", Kind.INSTRUCTIONS_SAVED): (
        "Thanks, Christopher! The driver will see your instructions:\n"
        "<blockquote>Please leave it at the back door</blockquote>\n"
        "We'll use them for your future deliveries too."
    ),
    (T, "de", Kind.INSTRUCTIONS_SAVED): (
        "Danke, Christopher! Unser Fahrteam sieht Ihre Ablagehinweise:\n"
        "<blockquote>Bitte an der Hintertür abstellen</blockquote>\n"
        "Sie gelten auch für Ihre künftigen Zustellungen."
    ),
    # access-code-saved
    (S, "en", Kind.ACCESS_CODE_SAVED): (
        "Doorstep: Thanks Christopher, your access code is saved. Only the driver of your "
        "delivery will see it."
    ),
    (S, "de", Kind.ACCESS_CODE_SAVED): (
        "Doorstep: Danke, Christopher! Ihr Zugangscode ist gespeichert. Er wird nur für "
        "Ihre Zustellung angezeigt."
    ),
    (T, "en", Kind.ACCESS_CODE_SAVED): (
        "Thanks, Christopher! Your access code is saved. Only the driver of your delivery will see it."
    ),
    (T, "de", Kind.ACCESS_CODE_SAVED): (
        "Danke, Christopher! Ihr Zugangscode ist gespeichert. Er wird nur für Ihre Zustellung angezeigt."
    ),
    # status
    (S, "en", Kind.STATUS): (
        "Doorstep: Hi Christopher, order DS-104233 is out for delivery: Mon 23 Nov 14:00-15:00."
    ),
    (S, "de", Kind.STATUS): (
        "Doorstep: Hallo Christopher, Ihre Sendung DS-104233 ist unterwegs: Mo. 23. Nov. 14:00-15:00."
    ),
    (T, "en", Kind.STATUS): (
        "Hi Christopher, order DS-104233 is <b>out for delivery</b>: Mon 23 Nov, 14:00–15:00."
    ),
    (T, "de", Kind.STATUS): (
        "Hallo Christopher, Ihre Sendung DS-104233 ist <b>unterwegs</b>: Mo. 23. Nov., 14:00–15:00."
    ),
    # linked (a Telegram chat follows the delivery)
    (S, "en", Kind.LINKED): (
        "Doorstep: Hi Christopher, Telegram is now linked to order DS-104233. Updates will come there."
    ),
    (S, "de", Kind.LINKED): (
        "Doorstep: Hallo Christopher, Telegram ist jetzt mit Ihrer Sendung DS-104233 verbunden. "
        "Updates kommen dort."
    ),
    (T, "en", Kind.LINKED): (
        "Hi Christopher, you're all set: we'll keep you posted here about order DS-104233. It is "
        "<b>out for delivery</b>: Mon 23 Nov, 14:00–15:00."
    ),
    (T, "de", Kind.LINKED): (
        "Hallo Christopher, alles klar: Wir halten Sie hier über Ihre Sendung DS-104233 auf dem "
        "Laufenden. Sie ist <b>unterwegs</b>: Mo. 23. Nov., 14:00–15:00."
    ),
    # help
    (S, "en", Kind.HELP): (
        "Doorstep delivery updates for order DS-104233. Reply 1 to confirm, 2 to change the time, "
        "3 for delivery instructions. Reply STOP to opt out."
    ),
    (S, "de", Kind.HELP): (
        "Doorstep: Zustell-SMS zu Ihrer Sendung DS-104233. Antworten Sie: 1 bestätigen, 2 andere "
        "Zeit, 3 Ablagehinweise. Antworten Sie STOP zum Abmelden."
    ),
    (T, "en", Kind.HELP): (
        "<b>Doorstep delivery updates</b> for order DS-104233.\n"
        "Use the buttons under each message to confirm a time, choose another one or tell us "
        "where to leave your parcel."
    ),
    (T, "de", Kind.HELP): (
        "<b>Zustellinfos von Doorstep</b> zu Ihrer Sendung DS-104233.\n"
        "Mit den Tasten unter jeder Nachricht bestätigen Sie eine Zeit, wählen eine andere oder "
        "sagen uns, wo wir Ihr Paket ablegen dürfen."
    ),
    # instructions-asked
    (S, "en", Kind.INSTRUCTIONS_ASKED): (
        "Doorstep: Where should we leave your parcel, Christopher? Reply SAFE and the place, e.g. "
        "SAFE back door or SAFE neighbour no. 12. Gate code: CODE 1234"
    ),
    (S, "de", Kind.INSTRUCTIONS_ASKED): (
        "Doorstep: Wo dürfen wir Ihr Paket ablegen, Christopher? Antworten Sie ABLAGE und den Ort, "
        "z.B. ABLAGE Garage. Torcode: CODE 1234"
    ),
    (T, "en", Kind.INSTRUCTIONS_ASKED): (
        "Where should we leave your parcel, Christopher? Choose a place below or write it in your own "
        "words. If there is a gate or door code, send it as <b>CODE 1234</b>."
    ),
    (T, "de", Kind.INSTRUCTIONS_ASKED): (
        "Wo dürfen wir Ihr Paket ablegen, Christopher? Wählen Sie unten einen Ort oder schreiben Sie ihn "
        "in eigenen Worten. Gibt es einen Tor- oder Türcode, senden Sie ihn als <b>CODE 1234</b>."
    ),
    # person-requested
    (S, "en", Kind.PERSON_REQUESTED): (
        "Doorstep: Thanks Christopher, someone from our team will reply here shortly."
    ),
    (S, "de", Kind.PERSON_REQUESTED): (
        "Doorstep: Danke, Christopher! Jemand aus unserem Team antwortet Ihnen hier in Kürze."
    ),
    (T, "en", Kind.PERSON_REQUESTED): "Thanks, Christopher. Someone from our team will reply here shortly.",
    (T, "de", Kind.PERSON_REQUESTED): (
        "Danke, Christopher. Jemand aus unserem Team antwortet Ihnen hier in Kürze."
    ),
    # rated
    (S, "en", Kind.RATED): (
        "Doorstep: Thanks for your rating (5/5), Christopher! Anything to add? Just reply."
    ),
    (S, "de", Kind.RATED): (
        "Doorstep: Danke für Ihre Bewertung (5/5), Christopher! Noch etwas? Antworten Sie einfach."
    ),
    (T, "en", Kind.RATED): (
        "Thanks for your rating, Christopher! ⭐⭐⭐⭐⭐\nAnything you would like to add? Just write it here."
    ),
    (T, "de", Kind.RATED): (
        "Danke für Ihre Bewertung, Christopher! ⭐⭐⭐⭐⭐\nMöchten Sie noch etwas ergänzen? Schreiben Sie "
        "es einfach hier."
    ),
    # commented (what they added after the rating)
    (S, "en", Kind.COMMENTED): "Doorstep: Thanks, Christopher. We have passed your comment on to our team.",
    (S, "de", Kind.COMMENTED): (
        "Doorstep: Danke, Christopher. Wir haben Ihren Kommentar an unser Team weitergegeben."
    ),
    (T, "en", Kind.COMMENTED): "Thanks, Christopher. We have passed your comment on to our team.",
    (T, "de", Kind.COMMENTED): "Danke, Christopher. Wir haben Ihren Kommentar an unser Team weitergegeben.",
    # not-received
    (S, "en", Kind.NOT_RECEIVED): (
        "Doorstep: Sorry to hear that, Christopher. We've flagged order DS-104233 as not received "
        "and our team will get back to you shortly."
    ),
    (S, "de", Kind.NOT_RECEIVED): (
        "Doorstep: Das tut uns leid, Christopher. Wir haben Sendung DS-104233 als nicht erhalten "
        "gemeldet, unser Team meldet sich in Kürze bei Ihnen."
    ),
    (T, "en", Kind.NOT_RECEIVED): (
        "Sorry to hear that, Christopher. We've flagged order <b>DS-104233</b> as not received "
        "and our team will get back to you here shortly."
    ),
    (T, "de", Kind.NOT_RECEIVED): (
        "Das tut uns leid, Christopher. Wir haben Sendung <b>DS-104233</b> als nicht erhalten "
        "gemeldet, unser Team meldet sich hier in Kürze bei Ihnen."
    ),
    # opted-out
    (S, "en", Kind.OPTED_OUT): (
        "Doorstep: You're unsubscribed and won't get more delivery texts. Reply START to opt back in."
    ),
    (S, "de", Kind.OPTED_OUT): (
        "Doorstep: Sie sind abgemeldet und erhalten keine Zustell-SMS mehr. Antworten Sie START, "
        "um sich wieder anzumelden."
    ),
    (T, "en", Kind.OPTED_OUT): (
        "You won't get any more delivery updates here. Changed your mind? Send /start."
    ),
    (T, "de", Kind.OPTED_OUT): (
        "Sie erhalten hier keine Zustellinfos mehr. Doch wieder gewünscht? Senden Sie /start."
    ),
    # opted-in
    (S, "en", Kind.OPTED_IN): (
        "Doorstep: Welcome back, Christopher! You'll get delivery texts again. Msg&data rates may "
        "apply. Reply HELP for help, STOP to opt out."
    ),
    (S, "de", Kind.OPTED_IN): (
        "Doorstep: Willkommen zurück, Christopher! Sie erhalten wieder Zustell-SMS. Antworten Sie "
        "HELP für Hilfe, STOP zum Abmelden."
    ),
    (T, "en", Kind.OPTED_IN): "Welcome back, Christopher! You'll get your delivery updates here again.",
    (T, "de", Kind.OPTED_IN): "Willkommen zurück, Christopher! Sie erhalten Ihre Zustellinfos wieder hier.",
    # not-understood
    (S, "en", Kind.NOT_UNDERSTOOD): (
        "Doorstep: Sorry, we didn't get that; our team will read it. Reply 1 to confirm, 2 to change "
        "the time, 3 for delivery instructions."
    ),
    (S, "de", Kind.NOT_UNDERSTOOD): (
        "Doorstep: Das haben wir nicht verstanden; unser Team liest mit. Antworten Sie: 1 bestätigen, "
        "2 andere Zeit, 3 Ablagehinweise."
    ),
    (T, "en", Kind.NOT_UNDERSTOOD): (
        "Sorry, we didn't understand that; our team will read your message. You can also use the "
        "buttons under our messages."
    ),
    (T, "de", Kind.NOT_UNDERSTOOD): (
        "Das haben wir nicht verstanden; unser Team liest Ihre Nachricht. Sie können auch die Tasten "
        "unter unseren Nachrichten nutzen."
    ),
    # thanked
    (S, "en", Kind.THANKED): "Doorstep: Thank you, Christopher! Glad to hear it.",
    (S, "de", Kind.THANKED): "Doorstep: Vielen Dank, Christopher! Das freut uns.",
    (T, "en", Kind.THANKED): "Thank you, Christopher! Glad to hear it.",
    (T, "de", Kind.THANKED): "Vielen Dank, Christopher! Das freut uns.",
    # which-delivery
    (S, "en", Kind.WHICH_DELIVERY): (
        "Doorstep: Hi Christopher, which delivery do you mean? Reply with its number:\n"
        "1) Bloomwood DS-104233, Mon 23 Nov\n"
        "2) Kettle & Co KC-99812, Tue 24 Nov"
    ),
    (S, "de", Kind.WHICH_DELIVERY): (
        "Doorstep: Hallo Christopher, welche Sendung? Antworten Sie mit der Nummer:\n"
        "1) Bloomwood DS-104233, Mo. 23. Nov.\n"
        "2) Kettle & Co KC-99812, Di. 24. Nov."
    ),
    (T, "en", Kind.WHICH_DELIVERY): (
        "Hi Christopher, which delivery do you mean? Choose one below:\n"
        "• Bloomwood DS-104233, Mon 23 Nov\n"
        "• Kettle &amp; Co KC-99812, Tue 24 Nov"
    ),
    (T, "de", Kind.WHICH_DELIVERY): (
        "Hallo Christopher, welche Sendung meinen Sie? Wählen Sie unten:\n"
        "• Bloomwood DS-104233, Mo. 23. Nov.\n"
        "• Kettle &amp; Co KC-99812, Di. 24. Nov."
    ),
    # staff-reply
    (S, "en", Kind.STAFF_REPLY): (
        "Doorstep support: Your parcel is back at the depot. We can bring it tomorrow morning."
    ),
    (S, "de", Kind.STAFF_REPLY): (
        "Doorstep Kundenservice: Ihr Paket ist wieder im Depot. Wir können es morgen Vormittag bringen."
    ),
    (T, "en", Kind.STAFF_REPLY): (
        "<b>Doorstep support:</b>\nYour parcel is back at the depot. We can bring it tomorrow morning."
    ),
    (T, "de", Kind.STAFF_REPLY): (
        "<b>Doorstep Kundenservice:</b>\n"
        "Ihr Paket ist wieder im Depot. Wir können es morgen Vormittag bringen."
    ),
    # driver-route
    (T, "en", Kind.DRIVER_ROUTE): (
        "Hi Jonas! Your route for <b>Mon 23 Nov</b>: 3 stops.\n"
        "\n"
        "<b>1 · 09:00–10:00</b>\n"
        "Hauptstraße 12, 10115 Berlin\n"
        "Anna Schmidt\n"
        "\n"
        "<b>2 · 10:00–11:00</b>\n"
        "Torstraße 88, 10119 Berlin\n"
        "Christopher Lee\n"
        "📦 From shipper: Dog in the yard\n"
        "📝 From recipient: Please leave it at the back door\n"
        "🔑 Access code: <code>4711#</code>\n"
        "\n"
        "<b>3 · 11:00–12:00</b>\n"
        "Invalidenstraße 5, 10115 Berlin\n"
        "Mehmet Yilmaz\n"
        "🔑 Access code: <code>B-2207</code>"
    ),
    (T, "de", Kind.DRIVER_ROUTE): (
        "Hallo Jonas! Ihre Tour am <b>Mo. 23. Nov.</b>: 3 Stopps.\n"
        "\n"
        "<b>1 · 09:00–10:00</b>\n"
        "Hauptstraße 12, 10115 Berlin\n"
        "Anna Schmidt\n"
        "\n"
        "<b>2 · 10:00–11:00</b>\n"
        "Torstraße 88, 10119 Berlin\n"
        "Christopher Lee\n"
        "📦 Vom Versender: Hund im Hof\n"
        "📝 Vom Empfänger: Bitte an der Hintertür abstellen\n"
        "🔑 Zugangscode: <code>4711#</code>\n"
        "\n"
        "<b>3 · 11:00–12:00</b>\n"
        "Invalidenstraße 5, 10115 Berlin\n"
        "Mehmet Yilmaz\n"
        "🔑 Zugangscode: <code>B-2207</code>"
    ),
    # driver-notes
    (T, "en", Kind.DRIVER_NOTES): (
        "Jonas, 2 stops have changed:\n"
        "\n"
        "<b>2 · Torstraße 88, 10119 Berlin</b> (Christopher Lee)\n"
        "🕒 New window: <b>14:00–15:00</b>\n"
        "📝 From recipient: Please leave it at the back door\n"
        "🔑 New access code: <code>B-2207</code>\n"
        "📦 From shipper: Dog in the yard\n"
        "\n"
        "<b>5 · Chausseestraße 21, 10115 Berlin</b> (Lena Vogel)\n"
        "❌ Removed from your route"
    ),
    (T, "de", Kind.DRIVER_NOTES): (
        "Jonas, 2 Stopps haben sich geändert:\n"
        "\n"
        "<b>2 · Torstraße 88, 10119 Berlin</b> (Christopher Lee)\n"
        "🕒 Neues Zeitfenster: <b>14:00–15:00</b>\n"
        "📝 Vom Empfänger: Bitte an der Hintertür abstellen\n"
        "🔑 Neuer Zugangscode: <code>B-2207</code>\n"
        "📦 Vom Versender: Hund im Hof\n"
        "\n"
        "<b>5 · Chausseestraße 21, 10115 Berlin</b> (Lena Vogel)\n"
        "❌ Aus Ihrer Tour entfernt"
    ),
    # driver-stop
    (T, "en", Kind.DRIVER_STOP): (
        "<b>Stop 2 of 12</b> · 10:00–11:00\n"
        "Torstraße 88, 10119 Berlin\n"
        "Christopher Lee\n"
        "📦 From shipper: Dog in the yard\n"
        "📝 From recipient: Please leave it at the back door\n"
        "🔑 Access code: <code>4711#</code>"
    ),
    (T, "de", Kind.DRIVER_STOP): (
        "<b>Stopp 2 von 12</b> · 10:00–11:00\n"
        "Torstraße 88, 10119 Berlin\n"
        "Christopher Lee\n"
        "📦 Vom Versender: Hund im Hof\n"
        "📝 Vom Empfänger: Bitte an der Hintertür abstellen\n"
        "🔑 Zugangscode: <code>4711#</code>"
    ),
    # French (issue 12): the third locale, from the same fields
    (S, "fr", Kind.PRE_DELIVERY): (
        "Doorstep: Bonjour Christopher, livraison le lun. 23 nov. 14:00-15:00. Répondez : 1 "
        "confirmer, 2 autre créneau, 3 consignes. https://dstp.eu/t/Ab3dE9"
    ),
    (T, "fr", Kind.PRE_DELIVERY): (
        "Bonjour Christopher, votre colis Doorstep arrivera le <b>lun. 23 nov., 14:00–15:00</b>.\n"
        "Ce créneau vous convient-il ? Confirmez-le, choisissez-en un autre ou indiquez-nous où "
        "déposer votre colis.\n"
        '<a href="https://dstp.eu/t/Ab3dE9">Suivre votre colis</a>'
    ),
    (S, "fr", Kind.OUT_FOR_DELIVERY): (
        "Doorstep: Bonjour Christopher, livraison aujourd'hui 14:00-15:00. Répondez : 1 confirmer, "
        "2 autre créneau, 3 consignes. https://dstp.eu/t/Ab3dE9"
    ),
    (T, "fr", Kind.OUT_FOR_DELIVERY): (
        "Bonjour Christopher, votre colis Doorstep est en route ! Livraison prévue aujourd'hui, "
        "<b>14:00–15:00</b>.\n"
        "Vous ne serez pas là ? Choisissez un autre créneau ou indiquez-nous où le déposer.\n"
        '<a href="https://dstp.eu/t/Ab3dE9">Suivre votre colis</a>'
    ),
    (S, "fr", Kind.NEARBY): (
        "Doorstep: Bonjour Christopher, le livreur a encore 3 livraisons avant vous. Arrivée "
        "prévue vers 14:20 (dans 12 min environ)."
    ),
    (T, "fr", Kind.NEARBY): (
        "Bonjour Christopher, le livreur a encore 3 arrêts avant vous. Arrivée prévue vers "
        "<b>14:20</b> (dans 12 min environ)."
    ),
    (S, "fr", Kind.DELAY): (
        "Doorstep: Désolés, Christopher, nous avons du retard. Votre colis arrivera 14:00-15:00 "
        "(au lieu de 13:00-14:00). Répondez 2 pour changer de créneau."
    ),
    (T, "fr", Kind.DELAY): (
        "Désolés, Christopher, nous avons du retard. Votre colis arrivera <b>14:00–15:00</b> (au "
        "lieu de 13:00–14:00).\n"
        "Ce créneau ne vous convient pas ? Choisissez-en un autre ci-dessous."
    ),
    (S, "fr", Kind.WINDOW_UPDATED): (
        "Doorstep: Bonjour Christopher, nouveau créneau : le lun. 23 nov. 14:00-15:00 (au lieu de "
        "13:00-14:00). Répondez 2 pour en changer."
    ),
    (T, "fr", Kind.WINDOW_UPDATED): (
        "Bonjour Christopher, votre créneau de livraison a changé : <b>lun. 23 nov., "
        "14:00–15:00</b> (au lieu de 13:00–14:00)."
    ),
    (S, "fr", Kind.DELIVERED): (
        "Doorstep: Bonjour Christopher, votre colis a été livré à 14:20 (porte d'entrée). Votre "
        "avis ? Répondez de 1 (mauvais) à 5 (excellent)."
    ),
    (T, "fr", Kind.DELIVERED): (
        "C'est livré ! Bonjour Christopher, votre colis est arrivé à <b>14:20</b> (porte d&#39;entrée).\n"
        "Comment s'est passée la livraison ? Donnez-nous une note ci-dessous."
    ),
    (S, "fr", Kind.FAILED): (
        "Doorstep: Désolés, Christopher, livraison impossible aujourd'hui : personne n'était là.\n"
        "Répondez par le numéro d'un nouveau créneau :\n"
        "1) mar. 24 nov. 10:00-12:00\n"
        "2) mar. 24 nov. 14:00-16:00\n"
        "3) mer. 25 nov. 08:00-10:00"
    ),
    (T, "fr", Kind.FAILED): (
        "Désolés, Christopher, nous n'avons pas pu livrer votre colis aujourd'hui : personne "
        "n&#39;était là.\n"
        "Choisissez un nouveau créneau ci-dessous :\n"
        "• mar. 24 nov., 10:00–12:00\n"
        "• mar. 24 nov., 14:00–16:00\n"
        "• mer. 25 nov., 08:00–10:00"
    ),
    (S, "fr", Kind.CONFIRMED): (
        "Doorstep: Merci Christopher, livraison confirmée le lun. 23 nov. 14:00-15:00. Nous vous "
        "préviendrons quand votre colis approchera."
    ),
    (T, "fr", Kind.CONFIRMED): (
        "Merci, Christopher ! Votre livraison du <b>lun. 23 nov., 14:00–15:00</b> est confirmée.\n"
        "Nous vous préviendrons dès que votre colis approchera."
    ),
    (S, "fr", Kind.SLOTS_OFFERED): (
        "Doorstep: Christopher, répondez avec le numéro de votre choix :\n"
        "1) mar. 24 nov. 10:00-12:00\n"
        "2) mar. 24 nov. 14:00-16:00\n"
        "3) mer. 25 nov. 08:00-10:00"
    ),
    (T, "fr", Kind.SLOTS_OFFERED): (
        "Christopher, quel nouveau créneau vous convient ? Choisissez-en un ci-dessous :\n"
        "• mar. 24 nov., 10:00–12:00\n"
        "• mar. 24 nov., 14:00–16:00\n"
        "• mer. 25 nov., 08:00–10:00"
    ),
    (S, "fr", Kind.RESCHEDULED): (
        "Doorstep: C'est fait, Christopher ! Votre colis arrivera le lun. 23 nov. 14:00-15:00."
    ),
    (T, "fr", Kind.RESCHEDULED): (
        "C'est fait, Christopher ! Votre colis arrivera le <b>lun. 23 nov., 14:00–15:00</b>."
    ),
    (S, "fr", Kind.CHANGE_REFUSED): (
        "Doorstep: Désolés, Christopher, ce changement n'est pas possible : votre colis est déjà "
        "dans le véhicule."
    ),
    (T, "fr", Kind.CHANGE_REFUSED): (
        "Désolés, Christopher, nous ne pouvons pas effectuer ce changement : votre colis est déjà "
        "dans le véhicule."
    ),
    (S, "fr", Kind.INSTRUCTIONS_ASKED): (
        "Doorstep: Où déposer votre colis, Christopher ? Répondez SAFE suivi du lieu, ex. SAFE "
        "porte arrière ou SAFE chez le voisin du 12. Digicode : CODE 1234"
    ),
    (T, "fr", Kind.INSTRUCTIONS_ASKED): (
        "Où devons-nous déposer votre colis, Christopher ? Choisissez un lieu ci-dessous ou "
        "décrivez-le avec vos propres mots. S'il y a un digicode ou un code de portail, envoyez-le "
        "sous la forme <b>CODE 1234</b>."
    ),
    (S, "fr", Kind.INSTRUCTIONS_SAVED): (
        "Doorstep: Merci Christopher, le livreur recevra vos consignes de livraison. Elles "
        "vaudront aussi pour vos prochaines livraisons."
    ),
    (T, "fr", Kind.INSTRUCTIONS_SAVED): (
        "Merci, Christopher ! Le livreur verra vos consignes :\n"
        "<blockquote>Merci de le laisser à la porte arrière</blockquote>\n"
        "Elles s'appliqueront aussi à vos prochaines livraisons."
    ),
    (S, "fr", Kind.ACCESS_CODE_SAVED): (
        "Doorstep: Merci Christopher, votre code d'accès est enregistré. Seul le livreur de votre "
        "colis le verra."
    ),
    (T, "fr", Kind.ACCESS_CODE_SAVED): (
        "Merci, Christopher ! Votre code d'accès est enregistré. Seul le livreur de votre colis "
        "pourra le voir."
    ),
    (S, "fr", Kind.STATUS): (
        "Doorstep: Bonjour Christopher, votre commande DS-104233 est en cours de livraison : lun. "
        "23 nov. 14:00-15:00."
    ),
    (T, "fr", Kind.STATUS): (
        "Bonjour Christopher, votre commande DS-104233 est <b>en cours de livraison</b> : lun. 23 "
        "nov., 14:00–15:00."
    ),
    (S, "fr", Kind.HELP): (
        "Infos livraison Doorstep, commande DS-104233. Répondez : 1 confirmer, 2 autre créneau, 3 "
        "consignes de livraison. STOP pour vous désabonner."
    ),
    (T, "fr", Kind.HELP): (
        "<b>Suivi de livraison Doorstep</b> pour votre commande DS-104233.\n"
        "Utilisez les boutons sous chaque message pour confirmer un créneau, en choisir un autre "
        "ou nous indiquer où déposer votre colis."
    ),
    (S, "fr", Kind.PERSON_REQUESTED): (
        "Doorstep: Merci Christopher, un membre de notre équipe va vous répondre ici très vite."
    ),
    (T, "fr", Kind.PERSON_REQUESTED): (
        "Merci, Christopher. Un membre de notre équipe va vous répondre ici très rapidement."
    ),
    (S, "fr", Kind.THANKED): ("Doorstep: Merci beaucoup, Christopher ! Nous en sommes ravis."),
    (T, "fr", Kind.THANKED): ("Merci beaucoup, Christopher ! Nous en sommes ravis."),
    (S, "fr", Kind.RATED): (
        "Doorstep: Merci pour votre note (5/5), Christopher ! Un commentaire ? Répondez simplement "
        "à ce message."
    ),
    (T, "fr", Kind.RATED): (
        "Merci pour votre note, Christopher ! ⭐⭐⭐⭐⭐\n"
        "Vous souhaitez ajouter quelque chose ? Écrivez-le simplement ici."
    ),
    (S, "fr", Kind.COMMENTED): (
        "Doorstep: Merci, Christopher. Nous avons transmis votre commentaire à notre équipe."
    ),
    (T, "fr", Kind.COMMENTED): ("Merci, Christopher. Nous avons transmis votre commentaire à notre équipe."),
    (S, "fr", Kind.NOT_RECEIVED): (
        "Doorstep: Nous en sommes désolés, Christopher. La commande DS-104233 est signalée comme "
        "non arrivée ; notre équipe revient vers vous très vite."
    ),
    (T, "fr", Kind.NOT_RECEIVED): (
        "Nous en sommes désolés, Christopher. Nous avons signalé la commande <b>DS-104233</b> "
        "comme non reçue et notre équipe reviendra vers vous ici très rapidement."
    ),
    (S, "fr", Kind.OPTED_OUT): (
        "Doorstep: Votre désabonnement est pris en compte : vous ne recevrez plus nos SMS de "
        "livraison. Répondez START pour vous réabonner."
    ),
    (T, "fr", Kind.OPTED_OUT): (
        "Vous ne recevrez plus ici le suivi de vos livraisons. Vous avez changé d'avis ? Envoyez /start."
    ),
    (S, "fr", Kind.OPTED_IN): (
        "Doorstep: Bon retour, Christopher ! Nos SMS de livraison reprennent. Frais selon "
        "opérateur. Répondez INFO pour de l'aide, STOP pour vous désabonner."
    ),
    (T, "fr", Kind.OPTED_IN): (
        "Bon retour parmi nous, Christopher ! Vous recevrez de nouveau ici le suivi de vos livraisons."
    ),
    (S, "fr", Kind.NOT_UNDERSTOOD): (
        "Doorstep: Désolés, nous n'avons pas compris ; notre équipe lira votre message. Répondez : "
        "1 confirmer, 2 autre créneau, 3 consignes de livraison."
    ),
    (T, "fr", Kind.NOT_UNDERSTOOD): (
        "Désolés, nous n'avons pas compris ; notre équipe va lire votre message. Vous pouvez aussi "
        "utiliser les boutons sous nos messages."
    ),
    (S, "fr", Kind.WHICH_DELIVERY): (
        "Doorstep: Bonjour Christopher, quel colis ? Répondez par son numéro :\n"
        "1) Bloomwood DS-104233, lun. 23 nov.\n"
        "2) Kettle & Co KC-99812, mar. 24 nov."
    ),
    (T, "fr", Kind.WHICH_DELIVERY): (
        "Bonjour Christopher, de quelle livraison s'agit-il ? Choisissez-la ci-dessous :\n"
        "• Bloomwood DS-104233, lun. 23 nov.\n"
        "• Kettle &amp; Co KC-99812, mar. 24 nov."
    ),
    (S, "fr", Kind.STAFF_REPLY): (
        "Service client Doorstep : Votre colis est de retour à l'agence. Nous pouvons le livrer demain matin."
    ),
    (T, "fr", Kind.STAFF_REPLY): (
        "<b>Service client Doorstep :</b>\n"
        "Votre colis est de retour à l&#39;agence. Nous pouvons le livrer demain matin."
    ),
    (S, "fr", Kind.LINKED): (
        "Doorstep: Bonjour Christopher, Telegram est désormais associé à votre commande DS-104233. "
        "Vous y recevrez le suivi."
    ),
    (T, "fr", Kind.LINKED): (
        "Bonjour Christopher, c'est fait : vous recevrez ici le suivi de votre commande DS-104233. "
        "Elle est <b>en cours de livraison</b> : lun. 23 nov., 14:00–15:00."
    ),
    (T, "fr", Kind.DRIVER_ROUTE): (
        "Bonjour Jonas ! Votre tournée du <b>lun. 23 nov.</b> : 3 arrêts.\n"
        "\n"
        "<b>1 · 09:00–10:00</b>\n"
        "Hauptstraße 12, 10115 Berlin\n"
        "Anna Schmidt\n"
        "\n"
        "<b>2 · 10:00–11:00</b>\n"
        "Torstraße 88, 10119 Berlin\n"
        "Christopher Lee\n"
        "📦 Note de l'expéditeur : Chien dans la cour\n"
        "📝 Consigne du destinataire : Merci de le laisser à la porte arrière\n"
        "🔑 Code d'accès : <code>4711#</code>\n"
        "\n"
        "<b>3 · 11:00–12:00</b>\n"
        "Invalidenstraße 5, 10115 Berlin\n"
        "Mehmet Yilmaz\n"
        "🔑 Code d'accès : <code>B-2207</code>"
    ),
    (T, "fr", Kind.DRIVER_NOTES): (
        "Jonas, 2 arrêts ont changé :\n"
        "\n"
        "<b>2 · Torstraße 88, 10119 Berlin</b> (Christopher Lee)\n"
        "🕒 Nouveau créneau : <b>14:00–15:00</b>\n"
        "📝 Consigne du destinataire : Merci de le laisser à la porte arrière\n"
        "🔑 Nouveau code d'accès : <code>B-2207</code>\n"
        "📦 Note de l'expéditeur : Chien dans la cour\n"
        "\n"
        "<b>5 · Chausseestraße 21, 10115 Berlin</b> (Lena Vogel)\n"
        "❌ Retiré de votre tournée"
    ),
    (T, "fr", Kind.DRIVER_STOP): (
        "<b>Arrêt 2 sur 12</b> · 10:00–11:00\n"
        "Torstraße 88, 10119 Berlin\n"
        "Christopher Lee\n"
        "📦 Note de l'expéditeur : Chien dans la cour\n"
        "📝 Consigne du destinataire : Merci de le laisser à la porte arrière\n"
        "🔑 Code d'accès : <code>4711#</code>"
    ),
}

EVERY = [(c, locale, k) for k in Kind for c in registry.names(KINDS[k].audience) for locale in LOCALES]


@pytest.mark.parametrize(("channel", "locale", "kind"), EVERY, ids=str)
def test_golden_text(renderer: Renderer, channel: Channel, locale: str, kind: Kind) -> None:
    rendered = renderer.render(channel, locale, kind, sample_fields(channel, locale, kind))
    assert rendered.text == GOLDEN[channel, locale, kind]
    assert rendered.locale == locale
    if channel == Channel.SMS:
        assert (rendered.encoding, rendered.segments) == ("GSM-7", SMS_SEGMENTS.get(kind, 1))
    else:
        assert (rendered.encoding, rendered.segments) == (None, 1)


def test_every_kind_has_its_templates_and_goldens() -> None:
    for channel, locale, kind in EVERY:
        assert (TEMPLATES_DIR / template_name(channel, locale, kind)).is_file(), (channel, locale, kind)
    assert set(GOLDEN) == set(EVERY)


def test_every_template_belongs_to_a_kind_and_its_channel() -> None:
    for path in TEMPLATES_DIR.glob("*/*/*.j2"):
        kind = Kind(path.stem)
        assert path.parent.parent.name in registry.names(KINDS[kind].audience), path
