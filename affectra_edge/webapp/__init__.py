"""The web UI: a Bottle app served by Waitress, its login and guards, and its JSON API."""
