"""The reference processing API: real image processing behind AIKON's contract (DESIGN 6).

It sees pixels and the contract only; it imports nothing from the web app.
"""
