"""ruvstream.control: the control plane beside the router.

It holds what decides and coordinates capacity rather than serving queries:
the burst-scaling policies in ``control.scaling`` (calendar, forecast,
predictor, reactive scaler, capacity manager, orchestrator, replay), and the
coordination store, membership, election and swarm actuators that run them.
Policies are pure objects on an injected clock; the sockets live at the edges.
"""
