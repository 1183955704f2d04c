"""Password hashing for station credentials (OCPP security profiles 1 and 2).

Station passwords are machine secrets of 16 to 40 characters, checked on every (re)connection; after a
power cut thousands of stations reconnect at once. Django's default PBKDF2 work factor (about half a
second of CPU per check) is meant for human passwords and would turn that reconnect storm into minutes of
CPU. Stations get PBKDF2-SHA256 with a work factor of a few milliseconds instead: still salted and slow
to brute-force offline, and a 16-character random secret is out of reach of guessing anyway.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class StationPasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_station"
    iterations = 20_000
