"""The embedded LTI 1.3 platform, for the demo and the tests. Never registered in production."""
