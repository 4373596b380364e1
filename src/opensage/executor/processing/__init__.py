"""The parts of a processing job process: its description, its instances' folders, config files and outputs."""
