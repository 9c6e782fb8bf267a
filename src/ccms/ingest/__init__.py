"""CTI event intake: validation of event batches before they reach the store."""
