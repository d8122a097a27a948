"""Privacy operations: shoppers' requests, the disclosure register, legal holds and the
retention report, the breach register, and the deadlines they carry.

Everything here acts on what the store already holds; every change is written with its
audit entry in one transaction, so the register and the audit log cannot disagree.
"""
