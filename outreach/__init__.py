"""outreach: keeps a salesperson's relationships alive with drafts, never sends."""

__version__ = "0.1.0"
