domain = "bbb.example.org"
