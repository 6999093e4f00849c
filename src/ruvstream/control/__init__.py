"""ruvstream.control: the control plane (membership, election, agents, tasks, swarm).

Pure policy code on an injected clock; I/O (NATS JetStream KV and streams,
processes, the Kubernetes API) at the edges behind interfaces with an
in-memory implementation each. Consensus comes from JetStream KV
compare-and-set (Raft-backed), never from a vote of our own.
"""
