"""HTTP simulators of the Ajera API and the Vantagepoint REST API.

They exist because the real products cannot be reached from development or CI. The sync code never
imports this package: it talks to the simulators only over HTTP, through ``include.clients``, exactly as
it would talk to a production tenant.
"""
