# By Scalelite's server ID, or by the server's URL.
import {
  to = bbb_scalelite_server.lecture_hall
  id = "https://bbb-lecture.example.org/bigbluebutton/api"
}
