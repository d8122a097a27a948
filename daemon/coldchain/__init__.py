"""Cold-chain monitoring: cabinet profiles, alarm rules, and (to come) notifications and
daily reports."""
