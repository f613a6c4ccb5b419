"""Terminal drawing of message parts that knows nothing of widgets."""
