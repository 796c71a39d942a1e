"""Enforcement requests from other creditors (Amtshilfe, Vollstreckungshilfeersuchen; issue 18, docs/AMTSHILFE.md).

Pure, like ``enforcement``: frames in, frames and file bytes out; no store, no Prefect. The requests'
model and formats (our XML mirroring the XAmtshilfe life cycle, and the CSV for bulk deliveries), the
checks every request goes through, and the feedback to the requesting creditors.
"""
