"""Task modules: one package per kind of treatment, plugged into a registry (DESIGN 5)."""
