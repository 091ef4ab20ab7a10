// shared behaviour for every page
