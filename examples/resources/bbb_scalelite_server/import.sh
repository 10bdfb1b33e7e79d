# By Scalelite's server ID:
terraform import bbb_scalelite_server.lecture_hall 2b6c1d4e-7f3a-4c59-9e0a-5d8f1b2c3a4e

# Or by the server's URL (normalised like url: /bigbluebutton/api may be left out):
terraform import bbb_scalelite_server.lecture_hall https://bbb-lecture.example.org
