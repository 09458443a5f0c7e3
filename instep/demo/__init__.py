"""Synthetic demo data: a registry of parks and facilities and an inbox of submissions with faults.

Everything here is labelled synthetic and deterministic: the same arguments give byte-identical files.
"""

from instep.demo.generate import MANIFEST_NAME, DemoManifest, PlantedFault, Restatement, generate_demo

__all__ = ["MANIFEST_NAME", "DemoManifest", "PlantedFault", "Restatement", "generate_demo"]
