"""Transfer orders between sites: drafted from planning proposals or by hand."""
