"""What runs in a grading kernel, next to the student's code: the launcher, the server."""
