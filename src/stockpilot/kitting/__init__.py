"""Kitting: kit bills of material, assembly and disassembly orders through ``@KITTING``, and kit
availability computed from the components."""
