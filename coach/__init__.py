"""coach: a voice-guided exercise coach for low-back pain, headless on a Raspberry Pi.

This is a home-exercise aid, not a medical device.
"""

__version__ = "0.1.0"
