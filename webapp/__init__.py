"""Parkflow's web layer: persistence, services, command line and (later) the Flask app.

Importing the package stays cheap on purpose: the command line and the worker load it
without Flask, so the app factory lives in ``webapp.app`` and is imported only when needed.
"""
