# The DNS name bbb_fleet and the hook give an instance of a fleet under bbb.example.org.
output "record" {
  description = "The DNS name of an instance under the fleet's default template."
  value       = provider::bbb::instance_record_name("i-0123456789abcdef0", "bbb.example.org", null) # bbb-i-0123456789abcdef0.bbb.example.org
}

output "media_record" {
  description = "The DNS name under a custom template."
  value       = provider::bbb::instance_record_name("i-0123456789abcdef0", "bbb.example.org", "{instance_id}-media") # i-0123456789abcdef0-media.bbb.example.org
}
