"""The directory in Open Referral HSDS 3.0: export, import and the read-only API.

``tables`` turns our rows into HSDS table rows (the one place that does), ``objects``
nests them as the compiled ``service`` and ``organization`` objects; ``export`` writes
both forms, ``importer`` reads them back and ``api`` serves them. ``schema/`` holds
the HSDS 3.0 table schemas and data package, copied unchanged from Open Referral
(openreferral/specification, branch 3.0, commit 279fd2e; CC BY-SA 4.0, see
``schema/LICENSE``).
"""
