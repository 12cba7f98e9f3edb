"""MQTT: live state and ended sessions for any subscriber, and Home Assistant discovery."""
