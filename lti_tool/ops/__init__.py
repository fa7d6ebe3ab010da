"""Operations: health and readiness, the workers' heartbeat, the start page, the demo clock."""
