"""Simulated days: sample data now, the simulated recipients and drivers of `doorstep demo` later."""
