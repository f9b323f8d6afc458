"""The ground every layer stands on: shared types, the error hierarchy and settings.

It imports no other policyqa package, so corpus, index, qa and the faces
all import it without an arrow running back up.
"""
