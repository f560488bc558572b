"""Voice adapters: speaking (pyttsx3 phrase cache, ALSA player) and hearing (vosk listener).
Only these modules touch audio."""
