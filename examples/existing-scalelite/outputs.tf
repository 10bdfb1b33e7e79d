output "servers" {
  description = "Registered servers: Scalelite's server ID and state by key."
  value       = { for k, s in bbb_scalelite_server.this : k => { id = s.id, state = s.state } }
}
