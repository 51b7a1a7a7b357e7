"""Operator actions on an app's state from outside its worker (what ``streamctl table`` runs)."""
