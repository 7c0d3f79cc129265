"""Read models: disclosures, unit accounts, proposals and statement figures as SQL tables.

Fed from the event store's notification log by the same rules the ledger folds
with; they never write entries. (The money and governance issues fill this in.)
"""
