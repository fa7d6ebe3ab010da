"""xAPI: the statement endpoint, validation, the LRS client and xAPI emission."""
