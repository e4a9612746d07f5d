# Models of this app arrive with its issue; they register here.
