"""Support cases (R-U3): a person hands a refused or puzzling recall to human support, with the
decision, packet, device and their recent attempts attached; operators answer and close."""
