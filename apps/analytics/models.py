# This app's tables arrive with its issue (see ../shared/DESIGN.md).
