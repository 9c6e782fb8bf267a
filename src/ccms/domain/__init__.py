"""The pure domain of ccms: agents, CTI statuses, media types and identifier ranges."""
