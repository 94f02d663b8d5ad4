"""What crosses processes (queue messages, table rows, SignalR payloads), shared by edge and cloud."""
