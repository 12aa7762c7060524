"""Seeded, realistic demo CRM exports in the layout of a vendor profile, optionally with counted defects.

Customers behave the way BTYD models assume (per-customer purchase rates and dropout as in BG/NBD, spend
levels as in Gamma-Gamma) over up to four years before `end_date`, with structure a CRM's customers have:
category tastes and categories bought together, discount hunters and premium buyers, service-heavy and silent
customers, favourite contact channels, their own hours and days to order, cities across China and abroad.
The exports carry an honest history: main files hold each record as first saved, `*_changes` files its later
versions (see history.py), and second records of one customer merge from the moment they share an e-mail or
phone (identity.py). Headers and value vocabularies come from the profile YAML.

Modules, one job each: vocabularies, catalogue, customers, identity, purchases, engagement, simulation,
history, defects, layouts, render (byte blocks), formats, fields (entity renderers), writer, manifest, exports.
"""

from clientele_demo.exports import CHUNK_CUSTOMERS, MAX_CUSTOMERS, generate_demo_exports
from clientele_demo.manifest import MANIFEST_NAME, DemoFile, DemoManifest

__all__ = ["CHUNK_CUSTOMERS", "MANIFEST_NAME", "MAX_CUSTOMERS", "DemoFile", "DemoManifest", "generate_demo_exports"]
