# The servers bbb_schedule would set as capacity for 450 participants at 200 per server.
output "exam_servers" {
  description = "Servers an exam of 450 participants needs."
  value       = provider::bbb::servers_needed(450, 200) # 3
}
