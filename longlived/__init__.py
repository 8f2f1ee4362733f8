"""What the web app and the processor share to run as long-lived processes: readied once
before they serve (`warmup`), and an RQ worker whose work horse lives for many jobs
(`worker`). Neither imports the other: each gives its own app."""
