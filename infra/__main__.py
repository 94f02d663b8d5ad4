"""Spyglass on Azure (Pulumi, azure-native). The program lives in spyglass_infra/, one module per concern."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # spyglass_infra beside this file, however Pulumi runs it

from spyglass_infra.program import main

main()
