"""The simulators' default credentials: what the demo, the benchmark and the tests log in with.

Said once here; the simulators accept these unless started with other settings, and everything that reaches
them takes these names (through ``simulators.harness``) instead of writing the strings again.
"""

from __future__ import annotations

import base64

# Ajera addresses a tenant by the base64 of "<company>:<id>" after "AjeraAPI.ashx?".
AJERA_API_ID = base64.b64encode(b"ajera-sim:1").decode()
USERNAME = "sync"
PASSWORD = "sync-password"
CRM_DATABASE = "VPSIM"
CRM_CLIENT_ID = "sync-client"
CRM_CLIENT_SECRET = "sync-secret"
