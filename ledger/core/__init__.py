"""The pure core: formats, signatures, the Merkle tree and the rules as a fold.

Nothing here touches a database, a network or a clock it was not handed.
"""
