"""Voice adapters: speaking (``Speaker``) and, later, hearing. Only these modules touch audio."""
