"""Real-time MIDI: ports, the timeline and player, recording, the built-in synth, the duet. No torch, no model."""
