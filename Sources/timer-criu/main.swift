import TimerCRIUCommands

TimerCRIU.runMain()
