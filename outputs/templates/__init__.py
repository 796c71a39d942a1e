"""Jinja2 templates of the reports (a package only so that wheels ship the *.j2 files)."""
