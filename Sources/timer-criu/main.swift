import TimerCRIUCommands

TimerCRIU.main()
