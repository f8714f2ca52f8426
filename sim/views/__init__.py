"""Views: charts, reports and the notebook explorer, drawn from results and run folders.

May import: every layer above it (errors to runs).
"""
