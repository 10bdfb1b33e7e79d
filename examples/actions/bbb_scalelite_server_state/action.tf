# Put a server back in service after maintenance (or cordon it, with state = "cordoned"):
#   terraform apply -invoke=action.bbb_scalelite_server_state.bbb1
action "bbb_scalelite_server_state" "bbb1" {
  config {
    server = "https://bbb1.example.com" # or its Scalelite ID
    state  = "enabled"
  }
}
